import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../common/auth/auth.decorators';
import { AccountsService } from './accounts.service';
import { CreateAccountDto } from './create-account.dto';

@ApiTags('accounts')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('1.0/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a service account; its token is in the answer, once' })
  create(@Body() body: CreateAccountDto) {
    return this.accounts.create(body.name, body.role);
  }

  @Get()
  @ApiOperation({ summary: 'List service accounts' })
  list() {
    return this.accounts.list();
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an account (by id or name)' })
  async revoke(@Param('id') id: string) {
    await this.accounts.revoke(id);
    return null;
  }
}
