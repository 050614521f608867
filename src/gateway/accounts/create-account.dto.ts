import { ApiProperty } from '@nestjs/swagger';
import { ACCOUNT_ROLES, type AccountRole, IsName } from '@streamstack/contracts';
import { IsIn, IsString, Matches, } from 'class-validator';

export class CreateAccountDto {
  @ApiProperty({ example: 'web-frontend' })
  @IsName('name')
  name: string;

  @ApiProperty({ enum: ACCOUNT_ROLES, example: 'client' })
  @IsIn(ACCOUNT_ROLES)
  role: AccountRole;
}

export class VerifyTokenDto {
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'token_hash must be a hex SHA-256' })
  token_hash: string;
}
